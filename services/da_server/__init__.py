"""The OP Stack alt-DA server: a daemon on the shared platform in front of a DA client (`zg da server`)."""
