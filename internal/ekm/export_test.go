package ekm

// InMemoryClient exposes inMemoryClient to the external (simulator-backed)
// tests, which live in package ekm_test because the simulator imports ekm.
var InMemoryClient = inMemoryClient
