package store

// QuantitySQL is quantitySQL, for TestQuantitySQLMatchesRules.
const QuantitySQL = quantitySQL
