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
			rotateKeyCommand(),
			channelCommand(),
		},
	}
}
