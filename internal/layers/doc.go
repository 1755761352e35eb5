// Package layers holds no code: its test keeps the import rules of the README's
// package table (which layer may import which, what the workflows and the
// operator CLI must never pull in, which packages are for tests only) so that
// they are kept by a test rather than by memory.
package layers
