package fleet

// ParamType is a parameter's storage type, numbered as MAV_PARAM_TYPE.
type ParamType uint8

// Parameter types.
const (
	ParamUint8  ParamType = 1
	ParamInt8   ParamType = 2
	ParamUint16 ParamType = 3
	ParamInt16  ParamType = 4
	ParamUint32 ParamType = 5
	ParamInt32  ParamType = 6
	ParamReal32 ParamType = 9
)

// Param is one vehicle parameter.
type Param struct {
	// Name is at most 16 characters, for example "FS_GCS_ENABLE".
	Name string
	// Value is the parameter's value; integer types hold whole numbers.
	Value float64
	// Type is the vehicle's storage type.
	Type ParamType
	// Index is the parameter's position in the list, or -1 when the vehicle
	// did not say (ArduPilot answers reads by name and sets with 65535).
	Index int
	// Count is the number of parameters the vehicle has.
	Count int
}
