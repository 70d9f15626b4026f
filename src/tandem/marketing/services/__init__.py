"""Marketing writes, one module per area: campaigns, personas, content, sources, forms, touchpoints."""
