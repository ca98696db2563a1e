// Package reporting will hold the compliance domain: the module catalog, the
// roster over time (people, units, managers, roles), the rules that say who
// must complete which module by when, the completion projection built from
// statements, and the reports for HR, managers and auditors.
//
// It is empty so far; see the README's "What does not work yet".
package reporting
