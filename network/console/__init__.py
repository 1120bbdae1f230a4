"""The operator's console under /console: member 360, goodwill with four-eyes approval, the
audit log. Staff sign in through network/backoffice; every page and action checks the role."""
