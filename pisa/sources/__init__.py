"""The source simulator: the 20 country databases and a real-time writer into them."""
