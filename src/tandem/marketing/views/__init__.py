"""Marketing pages, one module per area; tandem.marketing.urls maps them."""
