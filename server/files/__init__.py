"""Files: uploads stored by content hash, message attachments and client documents."""
