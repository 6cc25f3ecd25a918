"""Order to cash, part 1: Amazon purchase orders become Sage 200 sales orders and are acknowledged."""
