"""For the operator at run time: JSON logs and Prometheus metrics."""
