package service

import (
	"go.temporal.io/sdk/worker"

	"github.com/ekmsync/ekmsync/activities"
)

// Register registers every ekmsync workflow and the activities on w. The tests'
// in-process workers and the worker binary share it, so they cannot drift apart.
func Register(w worker.Registry, acts *activities.Activities) {
	w.RegisterActivity(acts)
	registerListing(w)
	registerOrders(w)
	registerPush(w)
}
