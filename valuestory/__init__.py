"""valuestory: customer research in, a value story map out, every claim grounded in the customer's words."""

__version__ = "0.1.0"
