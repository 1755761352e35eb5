package cli

// PLACEHOLDER (issue 7 replaces this file): ship, cancel.
func orderOutboundCommands() []*command { return []*command{notYet("ship")} }
