"""The library's citation graph: fetched once from OpenAlex (Crossref, Semantic Scholar as
fallbacks), kept in the store, used offline by related, recommend, the item pane and `graph`."""
