"""The wire: the session factory, retries, reply parsing, and ArcGISAuth with its host scope."""
