package service

import "go.temporal.io/sdk/worker"

// registerPush registers the outbound push's workflows. PLACEHOLDER (issue 7).
func registerPush(w worker.Registry) {}
