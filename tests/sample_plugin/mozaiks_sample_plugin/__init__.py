"""A sample MozaiksCore plugin installed by the test suite through its entry points."""
