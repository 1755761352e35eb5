package cli

// PLACEHOLDER (issue 5 replaces this file): the listings group.
func listingsCommand() *command {
	return &command{name: "listings", summary: "listing download: download, status, problems", subs: []*command{notYet("download")}}
}
