"""Cost agent: discovers fleets in EC2, prices them, recommends spot migration, runs EC2 steps."""
