package service

import "go.temporal.io/sdk/worker"

// registerOrders registers the order sync's workflows. PLACEHOLDER (issue 6).
func registerOrders(w worker.Registry) {}
