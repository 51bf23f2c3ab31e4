"""Reading a contact list: files, encodings, headers, numbers, suppression."""
