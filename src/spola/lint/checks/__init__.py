"""The semantic checks, one module per concern; each check yields located findings."""
