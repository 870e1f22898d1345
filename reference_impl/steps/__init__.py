"""One module per calibration switch; each holds pure functions on arrays."""
