"""Monthly submissions: parsing, validation and loading."""
