package cli

// root is the whole command tree. Each group lives in its own file.
func root() *command {
	return &command{
		name:    "starter",
		summary: "ekmsync's operator CLI: set up channels, change settings, start and watch workflows.",
		subs: []*command{
			migrateCommand(),
			setupCommand(),
			keygenCommand(),
			versionCommand(),
			rotateKeyCommand(),
			channelCommand(),
			listingsCommand(),
			ordersCommand(),
			stockCommand(),
			priceCommand(),
			pushCommand(),
		},
	}
}

// ordersCommand gathers the order commands: those of the order download
// (orders_download.go) and those that change orders in the hub for the outbound
// push (orders_outbound.go).
func ordersCommand() *command {
	return &command{
		name:    "orders",
		summary: "sync, list and back-fill orders; ship and cancel them in the hub",
		subs:    append(orderDownloadCommands(), orderOutboundCommands()...),
	}
}
