"""One module and one .kv file per screen; each binds to the KioskController."""
