// Package qgcplan reads and writes QGroundControl's JSON .plan files
// (fileType "Plan", version 1; mission version 2, geoFence version 2,
// rallyPoints version 2) and converts them to and from fleet mission items
// and geofence zones.
//
// # Caveats
//
// Complex items: a "survey" or "CorridorScan" is flown as the simple items
// QGroundControl generated for it (TransectStyleComplexItem.Items); a
// "StructureScan" (which stores no generated items) or any other kind is
// refused by MissionItems with a message naming the item. Complex items
// round-trip unchanged (kept as raw JSON). Only SimpleItems with 7 params
// (mission version 2) are read; the old "coordinate" layout is refused.
// Unknown keys are ignored on reading and not written back.
package qgcplan
