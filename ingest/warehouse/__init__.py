"""The warehouse database: connections, the landing schema and COPY loading."""
