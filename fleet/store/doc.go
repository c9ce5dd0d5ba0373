// Package store is Centinela's durable state in one embedded bbolt file:
// the fleet's setup (drones, agencies and zones made at run time, tokens,
// grants), the audit log, the event history, telemetry tracks and missions as
// uploaded. It is the only package that imports go.etcd.io/bbolt.
//
// DB implements app.Store and app.History; Recorder feeds it from the fleet's
// event bus.
//
// # File layout
//
// Buckets: "meta" (the schema version), "tokens", "grants", "drones",
// "agencies" (JSON by id), "zones" (one GeoJSON FeatureCollection per zone, in
// geofence's schema; the bundled dataset is never copied in), "audit" and
// "events" (JSON, keyed by 8-byte big-endian Unix nanoseconds then an 8-byte
// sequence), "recent" and "tracks" (telemetry points in chunks, about 34
// bytes a point, see chunk.go) and "missions" (JSON by drone and mission
// id, plan items in a binary form).
//
// # Telemetry layout
//
// A group commit appends its points to "recent", a journal keyed by
// sequence, as a few values of up to 2 KB (each drone's points of the
// commit in one chunk): one commit writes only the last pages of one
// bucket, and only a few keys, however many drones it holds. Once 65,536
// points wait there (fewer with a small MaxSize, and before retention
// removes some), compaction moves them, in one transaction, to "tracks", one
// bucket per drone keyed by the time of each chunk's first point: each
// drone's bucket gets one entry (or a few) for many points, appended after
// its last (with a bucket per drone written on every commit, 2,000 drones
// cost two page writes each per commit). A drone's entries never overlap
// in time; points written over stored times are merged in, the newest
// winning. DB.Track merges both buckets. Files of schema 1 (a point a key)
// are migrated on Open: their recent points join the drones' buckets as
// they were, and those points are read as they are.
//
// # Schema and locking
//
// The schema version is in "meta". Open runs the migrations from the file's
// version to SchemaVersion in one transaction, and refuses a file of a newer
// schema (Unsupported) with a message naming both versions. bbolt locks the
// file: a second process opening it waits Options.Timeout (1 s by default),
// then Open returns Conflict saying the file is in use.
//
// # Retention: what "bounded" means
//
// History (tracks, events, audit entries, missions) older than
// Options.MaxAge is removed every TrimInterval. Size: bbolt files never
// shrink, but pages freed by deletes are reused. After every commit of the
// Recorder (and every TrimInterval) the trimmer checks the bytes of the pages
// in use; above 85 % of Options.MaxSize it removes the oldest history (all
// kinds, by time) until they are under 70 %. Removal runs in transactions of
// at most 2,000 keys (a chunk of points is one), so recording never waits
// long. The file therefore
// stays at about MaxSize: bbolt grows it to the next power of two while under
// 16 MiB and in 16 MiB steps above, so the file is at most the larger of
// MaxSize rounded up to a power of two and MaxSize + 16 MiB, as long as one
// commit interval's writes are small next to 15 % of MaxSize, which
// TestRetentionBoundsFile checks over a long simulated recording. Setup is
// never removed; if setup alone passes the bound, nothing is removed.
//
// # Crash safety
//
// Every commit is fsynced (bbolt's default); the freelist is not written
// (NoFreelistSync) and is rebuilt on Open. A process killed at any moment
// leaves a file that opens and passes bbolt's consistency check, holding
// every group commit that returned: at most BatchInterval (200 ms) of
// telemetry is lost.
//
// # Caveats
//
// A write that fails (disk full, file read-only) stops the Recorder for good
// (see Recorder); setup writes return Internal. A long read transaction keeps
// freed pages from reuse, so queries are short transactions.
package store
