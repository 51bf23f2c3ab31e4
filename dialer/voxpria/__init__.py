"""The Voxpria API: call models, the HTTP client, its wire parsing, signatures."""
