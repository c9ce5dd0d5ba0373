package i18n

// The messages of the command-line tools other than ctl (the help of
// serve, sim, demo, plan, bench, token and version, their terminal output
// and their command-line errors) and the mission differences of
// mission_mismatch events, kept apart from the event and ctl messages and
// merged into the catalogue at start.

func init() {
	for _, m := range []map[string]string{cliEn, diffEn} {
		for k, v := range m {
			en[k] = v
		}
	}
	for _, m := range []map[string]string{cliEs, diffEs} {
		for k, v := range m {
			es[k] = v
		}
	}
}

// diffEn says in English what differs between the tracked mission and the
// vehicle's, by fleet.MissionDiffCode, for the {detail} of
// event.mission_mismatch.
var diffEn = map[string]string{
	"mission_diff.command":  "item {seq}: command {want}, the vehicle has {got}",
	"mission_diff.position": "item {seq}: position {want}, the vehicle has {got}",
	"mission_diff.altitude": "item {seq}: altitude {want} m, the vehicle has {got} m",
	"mission_diff.param":    "item {seq}: param{param} = {want}, the vehicle has {got}",
	"mission_diff.count":    "{want} items, the vehicle has {got}",
}

// diffEs is diffEn in Spanish.
var diffEs = map[string]string{
	"mission_diff.command":  "elemento {seq}: comando {want}, el vehículo tiene {got}",
	"mission_diff.position": "elemento {seq}: posición {want}, el vehículo tiene {got}",
	"mission_diff.altitude": "elemento {seq}: altitud {want} m, el vehículo tiene {got} m",
	"mission_diff.param":    "elemento {seq}: parámetro {param} = {want}, el vehículo tiene {got}",
	"mission_diff.count":    "{want} elementos, el vehículo tiene {got}",
}

// cliEn is the English of the command-line tools.
var cliEn = map[string]string{
	"cli.title":             "Centinela: ground control for binational patrol drone fleets.",
	"cli.main_usage":        "Usage: centinela COMMAND [flags]",
	"cli.commands":          "Commands:",
	"cli.main_more":         "Run 'centinela COMMAND --help' for the flags of a command.",
	"cli.unknown_command":   "centinela: unknown command {command}",
	"cli.usage":             "Usage: centinela {command} {synopsis}",
	"cli.flags":             "Flags:",
	"cli.default":           "(default {value})",
	"cli.type.int":          "int",
	"cli.type.uint":         "uint",
	"cli.type.float":        "float",
	"cli.type.string":       "string",
	"cli.type.duration":     "duration",
	"cli.type.value":        "value",
	"cli.bad_lang":          "--lang {value}: want en or es",
	"cli.unexpected_args":   "unexpected arguments: {args}",
	"cli.flag.undefined":    "flag provided but not defined: -{flag}",
	"cli.flag.needs_value":  "flag needs an argument: -{flag}",
	"cli.flag.invalid":      "invalid value {value} for flag -{flag}: {err}",
	"cli.flag.invalid_bool": "invalid boolean flag {flag}: {err}",
	"cli.flag.syntax":       "bad flag syntax: {arg}",
	"cli.flag.parse_error":  "parse error",
	"cli.flag.out_of_range": "value out of range",
	"cli.error":             "centinela {command}: {error}",
	"demo.need_sim":         "--sim {sim}: the demo needs at least one simulated drone",
	"demo.bad_flags":        "want --altitude 5..120 m, --radius 20..5000 m, --laps 1..100, --mx 0..{mx}",
	"demo.too_many":         "--sim {sim}: at most {max} simulated drones with --mx",
	"token.need_db_role":    "token create: --db and --role are required",
	"token.bad_role":        "token create: --role {role}: want supervisor, operator or admin",
	"token.no_agency":       "--agency {agency}: no such agency (built in: {builtin}, or one an admin made)",
	"token.stored":          "token {id} ({role}, agency {agency}, {label}) stored in {db}",
}

// cliEs is the Spanish of the command-line tools.
var cliEs = map[string]string{
	"cli.title":             "Centinela: control en tierra para flotas binacionales de drones de patrullaje.",
	"cli.main_usage":        "Uso: centinela COMANDO [opciones]",
	"cli.commands":          "Comandos:",
	"cli.main_more":         "Ejecute 'centinela COMANDO --help' para ver las opciones de un comando.",
	"cli.unknown_command":   "centinela: comando desconocido {command}",
	"cli.usage":             "Uso: centinela {command} {synopsis}",
	"cli.flags":             "Opciones:",
	"cli.default":           "(predeterminado: {value})",
	"cli.type.int":          "entero",
	"cli.type.uint":         "natural",
	"cli.type.float":        "número",
	"cli.type.string":       "texto",
	"cli.type.duration":     "duración",
	"cli.type.value":        "valor",
	"cli.bad_lang":          "--lang {value}: se espera en o es",
	"cli.unexpected_args":   "argumentos inesperados: {args}",
	"cli.flag.undefined":    "opción no definida: -{flag}",
	"cli.flag.needs_value":  "la opción necesita un valor: -{flag}",
	"cli.flag.invalid":      "valor {value} no válido para la opción -{flag}: {err}",
	"cli.flag.invalid_bool": "opción booleana {flag} no válida: {err}",
	"cli.flag.syntax":       "sintaxis de opción incorrecta: {arg}",
	"cli.flag.parse_error":  "no se pudo interpretar",
	"cli.flag.out_of_range": "valor fuera de rango",
	"cli.error":             "centinela {command}: {error}",
	"demo.need_sim":         "--sim {sim}: la demostración necesita al menos un drone simulado",
	"demo.bad_flags":        "se espera --altitude 5..120 m, --radius 20..5000 m, --laps 1..100, --mx 0..{mx}",
	"demo.too_many":         "--sim {sim}: como máximo {max} drones simulados con --mx",
	"token.need_db_role":    "token create: --db y --role son obligatorios",
	"token.bad_role":        "token create: --role {role}: se espera supervisor, operator o admin",
	"token.no_agency":       "--agency {agency}: no existe esa agencia (incluidas: {builtin}, o una creada por un administrador)",
	"token.stored":          "token {id} ({role}, agencia {agency}, {label}) guardado en {db}",
}
