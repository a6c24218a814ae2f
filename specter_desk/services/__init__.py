"""Services: pure functions over the store and the index. They return data, never print."""
