// Package contract holds what the workflows, the activities and the operator side
// agree on: the activities' names, inputs and results, the application error
// types the workflows act on, and each long-running loop's state (one struct
// that is its continue-as-new payload and its query's answer). It depends on neither the hub's code nor pgx, so
// that the deterministic workflows and the operator CLI can use it without them;
// the activities alias its types and convert the hub's rows into them. The JSON
// names are those of recorded histories: renaming one breaks their replay.
package contract
