"""The ArcGIS Pro tools as data (parameters), their behaviour, and their help XML."""
