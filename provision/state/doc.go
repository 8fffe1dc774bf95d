// Package state is airctl's record of what it has provisioned: the state
// document (resources, their attributes and outputs), its JSON encoding, and
// the Backend interface that stores it with a lock.
//
// Two backends implement Backend: provision/state/local (a file next to the
// configuration, locked with flock) and provision/state/gcs (objects in a
// Cloud Storage bucket, locked with a generation precondition). The write
// rules they share (serial, lineage, "nothing changed, nothing written") live
// in Prepare so that both behave the same way.
package state
