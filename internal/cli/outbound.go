package cli

// PLACEHOLDER (issue 7 replaces this file): stock set, price set, push status.
func stockCommand() *command {
	return &command{name: "stock", summary: "set hub stock levels", subs: []*command{notYet("set")}}
}

func priceCommand() *command {
	return &command{name: "price", summary: "set hub prices", subs: []*command{notYet("set")}}
}

func pushCommand() *command {
	return &command{name: "push", summary: "outbound push: status", subs: []*command{notYet("status")}}
}
