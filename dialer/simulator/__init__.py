"""A stand-in for the Voxpria API: it knows the API's models, not the dialer."""
