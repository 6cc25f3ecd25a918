"""Ship notices (ASNs): Sage's confirmed despatches packed into cartons, checked against Amazon's rules, sent."""
