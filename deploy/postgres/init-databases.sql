-- One database per service (DESIGN §1), created on the first start of an empty PostgreSQL volume.
-- The services create theirs too when it is missing, so this only makes the layout explicit.
CREATE DATABASE order_db;
CREATE DATABASE inventory_db;
CREATE DATABASE payment_db;
CREATE DATABASE wallet_db;
CREATE DATABASE orchestrator_db;
