"""The steps behind tandem.crm.imports: reading, column mapping, cleaning and chunked writes.

reader: size limit, UTF-8 (with or without BOM), CSV rows with their physical line numbers.
mapping: the importable fields, header recognition and `--map` overrides.
cleaners: cell cleaners (dates, choices, countries, owners, custom values).
writer: the chunk importer base (cell loop, one retried transaction per chunk).
contacts / contact_rows / companies: the two kinds; book: company lookup; sql: executemany.
"""
