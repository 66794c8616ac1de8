"""Sales metrics: one fact table of sales lines (imports and paid orders), daily rollups kept in
the same transaction as the facts, and the KPIs, series and rankings read from them."""
