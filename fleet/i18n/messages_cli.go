package i18n

// The messages of the command-line tools other than ctl (the help of
// serve, sim, demo, plan, bench, token and version, their terminal output
// and their command-line errors) and the mission differences of
// mission_mismatch events, kept apart from the event and ctl messages and
// merged into the catalogue at start.

func init() {
	for _, m := range []map[string]string{cliEn, diffEn, checkEn} {
		for k, v := range m {
			en[k] = v
		}
	}
	for _, m := range []map[string]string{cliEs, diffEs, checkEs} {
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
	"cli.title":                "Centinela: ground control for binational patrol drone fleets.",
	"cli.main_usage":           "Usage: centinela COMMAND [flags]",
	"cli.commands":             "Commands:",
	"cli.main_more":            "Run 'centinela COMMAND --help' for the flags of a command.",
	"cli.unknown_command":      "centinela: unknown command {command}",
	"cli.usage":                "Usage: centinela {command} {synopsis}",
	"cli.flags":                "Flags:",
	"cli.default":              "(default {value})",
	"cli.type.int":             "int",
	"cli.type.uint":            "uint",
	"cli.type.float":           "float",
	"cli.type.string":          "string",
	"cli.type.duration":        "duration",
	"cli.type.value":           "value",
	"cli.bad_lang":             "--lang {value}: want en or es",
	"cli.unexpected_args":      "unexpected arguments: {args}",
	"cli.flag.undefined":       "flag provided but not defined: -{flag}",
	"cli.flag.needs_value":     "flag needs an argument: -{flag}",
	"cli.flag.invalid":         "invalid value {value} for flag -{flag}: {err}",
	"cli.flag.invalid_bool":    "invalid boolean flag {flag}: {err}",
	"cli.flag.syntax":          "bad flag syntax: {arg}",
	"cli.flag.parse_error":     "parse error",
	"cli.flag.out_of_range":    "value out of range",
	"cli.error":                "centinela {command}: {error}",
	"cli.want":                 "{flag} {value}: want {want}",
	"cli.want_positive_max":    "{flag} {value}: want more than 0, at most {max}",
	"cli.want_percent":         "{flag} {value}: want a percentage 0..100",
	"cli.want_positive_factor": "{flag} {value}: want a positive factor",
	"serve.armed.true":         "true",
	"serve.armed.false":        "false",
	"serve.mission":            "{state} item {seq}/{last} {percent}%",
	"serve.eta":                "eta {eta}",
	"demo.patrols":             "The patrols: centinela ctl patrol ls --server {addr} (any token)",
	"demo.map":                 "Operator map: {url}",
	"demo.map_operator":        "  operator ({agency}): {url}",
	"demo.map_supervisor":      "  supervisor (read-only): {url}",
	"demo.grpc_tokens":         "gRPC API on {addr}. Tokens (shown once):\n  operator ({agency}): export CENTINELA_TOKEN={operator}\n  supervisor:    {supervisor}\n  admin:         {admin}\nTry, as the operator:\n  centinela ctl{server} drones ls\n  centinela ctl{server} watch\n  centinela ctl{server} hold sysid-1\n  centinela ctl{server} mission progress sysid-1 --follow\nand as the admin: centinela ctl{server} --token {admin} emergency rtl --all",
	"sim.drone":                "drone sysid {sysid} on {addr}",
	"sim.connect_or_listen":    "give exactly one of --connect ENDPOINT and --listen ENDPOINT",
	"sim.bad_sysid_base":       "--sysid-base {value}: drones would get system ids outside 1..254",
	"plan.bad_kind":            "--kind {kind}: want perimeter, coverage, corridor or transit",
	"plan.need_home":           "--home LAT,LON is required",
	"plan.bad_drones":          "--drones {drones}: want 1 to {max}",
	"plan.bad_format":          "--format {format}: want plan, geojson or text",
	"plan.need_area":           "--kind {kind} needs --area FILE.geojson",
	"plan.need_to":             "--kind transit needs --to LAT,LON",
	"plan.summary":             "{kind} patrol for agency {agency}: {routes} route(s), {km} km, {duration}",
	"plan.side":                ", on the {side} side of the line",
	"plan.route":               "{drone} sortie {sortie}: {waypoints} waypoints, {km} km, {duration}, battery {battery} %",
	"plan.col.lat":             "lat",
	"plan.col.lon":             "lon",
	"plan.col.alt":             "alt",
	"plan.col.speed":           "m/s",
	"plan.col.eta":             "eta",
	"plan.col.phase":           "phase",
	"plan.laps":                "laps: waypoints {first}–{last} flown {laps} times",
	"plan.check":               "check {name} {result}: {detail}",
	"plan.passed":              "passed",
	"plan.failed":              "FAILED",
	"plan.wrote":               "wrote {file} ({items} mission items, {fences} fences)",
	"demo.need_sim":            "--sim {sim}: the demo needs at least one simulated drone",
	"demo.bad_flags":           "want --altitude 5..120 m, --radius 20..5000 m, --laps 1..100, --mx 0..{mx}",
	"demo.too_many":            "--sim {sim}: at most {max} simulated drones with --mx",
	"token.need_db_role":       "token create: --db and --role are required",
	"token.bad_role":           "token create: --role {role}: want supervisor, operator or admin",
	"token.no_agency":          "--agency {agency}: no such agency (built in: {builtin}, or one an admin made)",
	"token.stored":             "token {id} ({role}, agency {agency}, {label}) stored in {db}",
}

// cliEs is the Spanish of the command-line tools.
var cliEs = map[string]string{
	"cli.title":                "Centinela: control en tierra para flotas binacionales de drones de patrullaje.",
	"cli.main_usage":           "Uso: centinela COMANDO [opciones]",
	"cli.commands":             "Comandos:",
	"cli.main_more":            "Ejecute 'centinela COMANDO --help' para ver las opciones de un comando.",
	"cli.unknown_command":      "centinela: comando desconocido {command}",
	"cli.usage":                "Uso: centinela {command} {synopsis}",
	"cli.flags":                "Opciones:",
	"cli.default":              "(predeterminado: {value})",
	"cli.type.int":             "entero",
	"cli.type.uint":            "natural",
	"cli.type.float":           "número",
	"cli.type.string":          "texto",
	"cli.type.duration":        "duración",
	"cli.type.value":           "valor",
	"cli.bad_lang":             "--lang {value}: se espera en o es",
	"cli.unexpected_args":      "argumentos inesperados: {args}",
	"cli.flag.undefined":       "opción no definida: -{flag}",
	"cli.flag.needs_value":     "la opción necesita un valor: -{flag}",
	"cli.flag.invalid":         "valor {value} no válido para la opción -{flag}: {err}",
	"cli.flag.invalid_bool":    "opción booleana {flag} no válida: {err}",
	"cli.flag.syntax":          "sintaxis de opción incorrecta: {arg}",
	"cli.flag.parse_error":     "no se pudo interpretar",
	"cli.flag.out_of_range":    "valor fuera de rango",
	"cli.error":                "centinela {command}: {error}",
	"cli.want":                 "{flag} {value}: se espera {want}",
	"cli.want_positive_max":    "{flag} {value}: se espera más de 0, como máximo {max}",
	"cli.want_percent":         "{flag} {value}: se espera un porcentaje 0..100",
	"cli.want_positive_factor": "{flag} {value}: se espera un factor positivo",
	"serve.armed.true":         "sí",
	"serve.armed.false":        "no",
	"serve.mission":            "{state} elemento {seq}/{last} {percent}%",
	"serve.eta":                "llega en {eta}",
	"demo.patrols":             "Los patrullajes: centinela ctl patrol ls --server {addr} (cualquier token)",
	"demo.map":                 "Mapa del operador: {url}",
	"demo.map_operator":        "  operador ({agency}): {url}",
	"demo.map_supervisor":      "  supervisor (solo lectura): {url}",
	"demo.grpc_tokens":         "API gRPC en {addr}. Tokens (se muestran una sola vez):\n  operador ({agency}): export CENTINELA_TOKEN={operator}\n  supervisor:    {supervisor}\n  administrador: {admin}\nPruebe, como el operador:\n  centinela ctl{server} drones ls\n  centinela ctl{server} watch\n  centinela ctl{server} hold sysid-1\n  centinela ctl{server} mission progress sysid-1 --follow\ny como el administrador: centinela ctl{server} --token {admin} emergency rtl --all",
	"sim.drone":                "drone sysid {sysid} en {addr}",
	"sim.connect_or_listen":    "indique exactamente uno de --connect DESTINO y --listen DESTINO",
	"sim.bad_sysid_base":       "--sysid-base {value}: los drones recibirían ids de sistema fuera de 1..254",
	"plan.bad_kind":            "--kind {kind}: se espera perimeter, coverage, corridor o transit",
	"plan.need_home":           "--home LAT,LON es obligatorio",
	"plan.bad_drones":          "--drones {drones}: se espera de 1 a {max}",
	"plan.bad_format":          "--format {format}: se espera plan, geojson o text",
	"plan.need_area":           "--kind {kind} necesita --area ARCHIVO.geojson",
	"plan.need_to":             "--kind transit necesita --to LAT,LON",
	"plan.summary":             "patrullaje {kind} de la agencia {agency}: {routes} ruta(s), {km} km, {duration}",
	"plan.side":                ", del lado {side} de la línea",
	"plan.route":               "{drone} salida {sortie}: {waypoints} puntos de ruta, {km} km, {duration}, batería {battery} %",
	"plan.col.lat":             "lat",
	"plan.col.lon":             "lon",
	"plan.col.alt":             "alt",
	"plan.col.speed":           "m/s",
	"plan.col.eta":             "llegada",
	"plan.col.phase":           "fase",
	"plan.laps":                "vueltas: puntos {first}–{last} volados {laps} veces",
	"plan.check":               "comprobación {name} {result}: {detail}",
	"plan.passed":              "cumple",
	"plan.failed":              "NO CUMPLE",
	"plan.wrote":               "escrito {file} ({items} elementos de misión, {fences} geocercas)",
	"demo.need_sim":            "--sim {sim}: la demostración necesita al menos un drone simulado",
	"demo.bad_flags":           "se espera --altitude 5..120 m, --radius 20..5000 m, --laps 1..100, --mx 0..{mx}",
	"demo.too_many":            "--sim {sim}: como máximo {max} drones simulados con --mx",
	"token.need_db_role":       "token create: --db y --role son obligatorios",
	"token.bad_role":           "token create: --role {role}: se espera supervisor, operator o admin",
	"token.no_agency":          "--agency {agency}: no existe esa agencia (incluidas: {builtin}, o una creada por un administrador)",
	"token.stored":             "token {id} ({role}, agencia {agency}, {label}) guardado en {db}",
}

// checkEn says in English the result of a patrol plan's check, by its name
// (spaces as underscores) with its parameters (geofence/plan.Check).
var checkEn = map[string]string{
	"plan_check.allowed_space": "every leg of {legs} in agency \"{agency}\"'s allowed space at {alt_m} m, inside the zones' altitude bands",
	"plan_check.margin":        "at least {margin_m} m from the edges of the allowed space and every exclusion zone",
	"plan_check.leg_length":    "longest leg {longest_m} m (limit {limit_m} m)",
	"plan_check.turn_angle":    "sharpest turn {sharpest_deg}° (limit {limit_deg}°)",
	"plan_check.endurance":     "{flight} of flight = {battery_pct} % of a {endurance} battery; {usable_pct} % usable ({charge_pct} % charge − {reserve_pct} % reserve)",
	"plan_check.balance":       "flight times {from} to {to} across {drones} drones ({apart_pct} % apart, limit 10 %)",
}

// checkEs is checkEn in Spanish.
var checkEs = map[string]string{
	"plan_check.allowed_space": "los {legs} tramos dentro del espacio permitido de la agencia \"{agency}\" a {alt_m} m, dentro de las bandas de altitud de las zonas",
	"plan_check.margin":        "al menos {margin_m} m de los bordes del espacio permitido y de cada zona de exclusión",
	"plan_check.leg_length":    "tramo más largo {longest_m} m (límite {limit_m} m)",
	"plan_check.turn_angle":    "giro más cerrado {sharpest_deg}° (límite {limit_deg}°)",
	"plan_check.endurance":     "{flight} de vuelo = {battery_pct} % de una batería de {endurance}; {usable_pct} % utilizable ({charge_pct} % de carga − {reserve_pct} % de reserva)",
	"plan_check.balance":       "tiempos de vuelo de {from} a {to} entre {drones} drones ({apart_pct} % de diferencia, límite 10 %)",
}
