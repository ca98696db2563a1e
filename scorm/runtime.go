package scorm

import (
	"embed"
	"io/fs"
)

// RuntimeScript is the name of the run-time script in Runtime: a player
// page loads it, then calls LRSScorm.start(init) with the JSON of an Init.
const RuntimeScript = "scorm.js"

//go:embed runtime/*.js
var runtimeFiles embed.FS

// Runtime returns the run-time scripts, by name (RuntimeScript), to serve
// as they are (e.g. http.FileServerFS(scorm.Runtime()) under a prefix,
// with Content-Type text/javascript).
func Runtime() fs.FS {
	sub, err := fs.Sub(runtimeFiles, "runtime")
	if err != nil {
		panic(err) // the embedded directory exists: a build without it fails
	}
	return sub
}
