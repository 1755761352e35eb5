package cli

// PLACEHOLDER (issue 6 replaces this file): sync, list, problems, backfill.
func orderDownloadCommands() []*command { return []*command{notYet("sync")} }
