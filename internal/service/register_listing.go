package service

import "go.temporal.io/sdk/worker"

// registerListing registers the listing download's workflows. PLACEHOLDER (issue 5).
func registerListing(w worker.Registry) {}
