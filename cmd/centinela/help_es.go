package main

import "flag"

// The Spanish help of the subcommands other than ctl (ctl_help_es.go,
// ctl_flags_es.go). The English is each command's own text (cmdLine.usage
// and the flags' registrations); TestHelpSpanish fails when a command or a
// flag of a command's real flag set has no Spanish here, or an entry here
// names none.

// summariesES is the Spanish of each command's line in "centinela --help".
var summariesES = map[string]string{
	"serve":   "ejecuta el servidor de control en tierra",
	"sim":     "ejecuta drones simulados que hablan MAVLink",
	"demo":    "ejecuta el servidor con seis drones simulados volando circuitos",
	"ctl":     "controla la flota a través de la API gRPC del servidor",
	"token":   "crea un token de la API en el archivo del servidor (antes de que arranque)",
	"plan":    "planea un patrullaje sin conexión e imprime su ruta y sus comprobaciones",
	"bench":   "mide la ingesta: el servidor frente a N drones simulados",
	"version": "imprime la versión",
}

// commandES is the Spanish help of one command.
type commandES struct {
	// synopsis follows "centinela COMMAND" in the usage line.
	synopsis string
	// text says what the command does.
	text string
}

// helpES is the Spanish help of each command, by its name in cmdLine.
var helpES = map[string]commandES{
	"serve": {"[opciones]", "Ejecuta el servidor de control en tierra: se enlaza con los drones por MAVLink,\n" +
		"mantiene el panorama de la flota y la comanda. Se detiene de forma ordenada con\n" +
		"SIGINT o SIGTERM.\n\n" +
		"Ejemplo: centinela serve --mavlink udp:0.0.0.0:14550 --mavlink tcp:127.0.0.1:5760"},
	"sim": {"[opciones]", "Ejecuta multicópteros ArduCopter simulados que hablan MAVLink como ArduPilot SITL.\n\n" +
		"Ejemplos:\n" +
		"  centinela sim --drones 3 --connect udpout:127.0.0.1:14550 --speedup 10\n" +
		"  centinela sim --drones 2 --listen tcpin:127.0.0.1:5760\n" +
		"  centinela sim --drones 3 --connect udpout:127.0.0.1:14550 --fault 2:loss-out=30,loss-in=30 --fault 3:cut-at=60s,cut-for=10s"},
	"demo": {"[opciones]", "Ejecuta el servidor con drones simulados (seis de forma predeterminada, uno por\n" +
		"corredor fronterizo: San Diego–Tijuana, Calexico–Mexicali, Nogales, El Paso–Ciudad\n" +
		"Juárez, Laredo–Nuevo Laredo, McAllen–Reynosa, del lado estadounidense, alternando\n" +
		"entre la agencia de EE. UU. y la fuerza de tarea conjunta binacional), más --mx\n" +
		"drones de la agencia mexicana del lado mexicano de los primeros corredores. Cada uno\n" +
		"vuela patrullajes planeados, despachados a través de la capa de aplicación como un\n" +
		"operador de su agencia: un patrullaje de corredor a lo largo de la línea\n" +
		"internacional de su propio lado y luego un patrullaje de cobertura del cuadrado\n" +
		"alrededor de su origen dentro de su espacio permitido, cada uno reservando su espacio\n" +
		"aéreo (los conflictos se resuelven por altitud o con un inicio más tarde); en tierra\n" +
		"recibe una batería nueva y vuelve a salir. Imprime una tabla del estado de la flota\n" +
		"cada pocos segundos. Se detiene con SIGINT o SIGTERM."},
	"plan": {"--kind TIPO --home LAT,LON [opciones]", "Planea un patrullaje sin conexión dentro del espacio permitido de la agencia (las\n" +
		"zonas fronterizas incluidas, más --zones) e imprime la ruta y sus comprobaciones.\n" +
		"Estado de salida 1 con el motivo cuando no hay una ruta válida, 2 para errores de uso.\n\n" +
		"Ejemplo: centinela plan --kind coverage --area area.geojson --home 32.548,-117.029 --agency us-agency --swath 80"},
	"bench": {"[opciones]", "Arranca el servidor y una flota simulada por UDP de loopback, mide la ingesta\n" +
		"durante --duration e imprime las tramas por segundo, las pérdidas y dónde ocurren,\n" +
		"la CPU del servidor por trama frente al mínimo (la decodificación de gomavlib más\n" +
		"una recepción del socket, medidos en la misma ejecución), la latencia y la memoria\n" +
		"por dron. Falla (estado de salida 1, después de imprimir los resultados) cuando\n" +
		"se descubren menos drones de los simulados o se pierden tramas, salvo con\n" +
		"--allow-loss.\n\n" +
		"Ejemplo: centinela bench --drones 1000 --rate 10 --duration 20s --sim-process"},
	"token create": {"--db RUTA --role ROL [--agency ID] [--name ETIQUETA]", "Crea un token de la API en el archivo de almacenamiento del servidor, utilizable\n" +
		"antes de que el servidor arranque por primera vez (el servidor no debe estar en\n" +
		"ejecución: tiene el archivo abierto). Imprime el token portador una sola vez en la\n" +
		"salida estándar; solo se guarda su hash."},
	"version": {"", "Imprime la versión de centinela y la de Go con la que se compiló."},
}

// flagsES is the Spanish description of every flag, by the command that
// registers it and the flag's name; "" holds the flags several commands
// register with the same meaning. A back-quoted word is the value's name in
// the usage line.
var flagsES = map[string]map[string]string{
	"": {
		"lang":             "idioma de la ayuda y los mensajes: en o es (predeterminado: según LC_ALL, LC_MESSAGES, LANG)",
		"log-level":        "nivel de la bitácora: debug, info, warn o error",
		"log-format":       "formato de la bitácora: text o json",
		"signing-key-file": "`archivo` de claves de firma, una SYSID=HEX por línea (# comentarios); que solo el servidor pueda leerlo",
	},
	"serve": {
		"mavlink":         "`destino` MAVLink por el que se llega a los drones, repetible: udp:HOST:PUERTO escucha, udpout:HOST:PUERTO envía, tcp:HOST:PUERTO se conecta, tcpin:HOST:PUERTO escucha, serial:DISPOSITIVO:BAUDIOS",
		"sysid":           "id de sistema MAVLink del servidor (la protección de falla de GCS de ArduPilot solo cuenta MAV_GCS_SYSID, 255 de forma predeterminada)",
		"compid":          "id de componente MAVLink del servidor",
		"link-timeout":    "un dron sin latido durante este tiempo pasa a LOST (perdido)",
		"max-drones":      "máximo de drones seguidos y vehículos enlazados; los demás se rechazan y se registran (0: 4096; cada extremo --mavlink admite como mucho --max-peers pares)",
		"max-peers":       "máximo de pares de cada extremo --mavlink que escucha (direcciones remotas de udp:, conexiones de tcpin:); los demás se rechazan y se cuentan (0: 512; una flota que envía a un solo puerto necesita su tamaño)",
		"mission-retries": "veces que se reenvía un paso de una transferencia de misión, geocerca o puntos de reunión antes de que falle (0: 5; súbalo en enlaces de radio con muchas pérdidas)",
		"stream-hz":       "frecuencia de telemetría pedida a cada dron, Hz",
		"sim":             "inicia además `N` drones simulados, conectados por UDP de loopback",
		"sim-speedup":     "aceleración del tiempo simulado de los drones simulados",
		"sim-seed":        "semilla aleatoria de los drones simulados",
		"sim-boot-delay":  "tiempo simulado hasta que un dron simulado tiene fijo GPS y puede armarse",
		"sim-home":        "origen de cada dron simulado como `LAT,LON,ALT` (predeterminado: repartidos por los corredores fronterizos)",
		"status":          "imprime una tabla del estado de la flota con esta frecuencia (0: nunca)",
		"agency":          "define una agencia como `ID=JURISDICCIÓN,…` (US, MX, JOINT), repetible; incluidas: us-agency=US, mx-agency=MX, joint-task-force=US,MX,JOINT",
		"drone-name":      "nombra un dron como `CLAVE=NOMBRE`, repetible; su id pasa a ser el nombre. CLAVE es un id de sistema (SYSID), un enlace y un id de sistema (ENLACE/SYSID, el enlace como lo muestra la flota: tcp:10.0.0.5:5760/1, udp:0.0.0.0:14550/10.0.0.7:14550/1) o un uid de AUTOPILOT_VERSION (uid:HEX, como lo registra el servidor); la clave de enlace gana al uid, el uid al id de sistema",
		"drone-agency":    "asigna un dron a una agencia como `CLAVE=AGENCIA`, repetible; CLAVE como en --drone-name",
		"default-agency":  "agencia de los drones no asignados con --drone-agency",
		"zones":           "`archivo` GeoJSON de zonas que se importan sobre el conjunto fronterizo incluido (todo o nada)",
		"breach-action":   "respuesta cuando un dron sale de su espacio permitido: warn, hold, rtl o land",
		"signing-key":     "clave de firma MAVLink 2 de un dron como `SYSID=HEX` (64 dígitos hexadecimales), repetible: su enlace se firma",
		"db":              "`archivo` de base de datos con la configuración de la flota, la bitácora de auditoría, los eventos y el historial de telemetría (serve: bajo $XDG_STATE_HOME o ~/.local/state de forma predeterminada, \"\" no guarda nada; demo: un archivo temporal si no se indica)",
		"retention-age":   "el historial (trayectorias, eventos, auditoría, misiones) más antiguo que esto se elimina (negativo: se conserva para siempre)",
		"retention-size":  "límite de los datos de la base, por ejemplo 500MB o 2GiB (0: sin límite); el historial más antiguo se va primero",
		"grpc":            "sirve la API gRPC (y ctl) en `DIRECCIÓN` (\"off\": no la sirve)",
		"tls-cert":        "`archivo` PEM del certificado TLS del servidor gRPC (con --tls-key)",
		"tls-key":         "`archivo` PEM de la clave privada TLS del servidor gRPC",
		"tls-self-signed": "sirve gRPC por TLS con un certificado creado al arrancar (su huella queda en la bitácora)",
		"allow-plaintext": "permite gRPC sin TLS en una dirección que no es de loopback",
		"http":            "`dirección` del mapa del operador (HTTP y WebSocket); \"off\" no sirve ninguno",
		"tiles":           "plantilla de `URL` opcional de teselas ráster con {z}, {x} y {y} bajo el mapa (predeterminado: ninguna, solo el mapa base vectorial incluido, funciona sin conexión)",
		"metrics":         "sirve métricas de Prometheus en http://`DIRECCIÓN`/metrics, por ejemplo 127.0.0.1:9100 (predeterminado: no)",
		"pprof":           "sirve perfiles de Go en http://`DIRECCIÓN`/debug/pprof/ (predeterminado: no; manténgalo en loopback)",
	},
	"demo": {
		"altitude": "altitud del patrullaje sobre el origen, metros",
		"radius":   "tamaño del patrullaje, metros: medio lado del cuadrado de cobertura, media longitud del corredor",
		"laps":     "idas y vueltas de cada patrullaje de corredor",
		"mx":       "drones de la agencia mexicana añadidos del lado mexicano de los primeros corredores (0..6)",
	},
	"sim": {
		"drones":         "número de drones simulados, cada uno con su propio id de sistema y socket",
		"connect":        "`destino` de la estación de tierra al que se conecta cada dron: udpout:HOST:PUERTO o tcp:HOST:PUERTO",
		"listen":         "`destino` en el que escucha cada dron: tcpin:HOST:PUERTO (el dron i en PUERTO+10·i, como ArduPilot SITL) o udp:HOST:PUERTO",
		"sysid-base":     "id de sistema del primer dron; el dron i recibe BASE+i",
		"speedup":        "factor de aceleración del tiempo simulado (los tiempos del enlace y de las protecciones de falla siguen en tiempo real)",
		"seed":           "semilla aleatoria: la misma semilla vuela igual",
		"home":           "origen de cada dron como `LAT,LON,ALT` (predeterminado: repartidos por los seis corredores fronterizos)",
		"boot-delay":     "tiempo simulado desde el encendido hasta el fijo GPS y el permiso de armado (0: de inmediato)",
		"stream-unasked": "transmite telemetría sin que se pida (ArduCopter real espera a que se la pidan)",
		"wind-speed":     "velocidad media del viento, m/s",
		"wind-dir":       "dirección de la que viene el viento, grados",
		"wind-gust":      "fuerza de las ráfagas (desviación estándar), m/s",
		"gps-noise":      "añade ruido de GPS a las posiciones reportadas",
		"loss-out":       "porcentaje de mensajes de los drones que se pierden",
		"loss-in":        "porcentaje de mensajes hacia los drones que se pierden",
		"latency":        "latencia añadida a cada mensaje en cada sentido",
		"jitter":         "latencia extra aleatoria de hasta este valor por mensaje",
		"drain":          "multiplicador del consumo de batería",
		"fault":          "ajustes de falla de un dron como `SYSID:CLAVE=VALOR,…`, repetible. Claves: loss-out, loss-in (%), latency, jitter (duraciones), drain (factor), wind-speed (m/s), wind-dir (grados), sysid (nuevo id de sistema), gps-lost (true/false), cut-at y cut-for (corta el enlace a un tiempo tras el inicio, durante un lapso), gps-lost-at y gps-lost-for",
		"signing-key":    "clave de firma MAVLink 2 como `HEX` (64 dígitos hexadecimales) para todos los drones, o SYSID=HEX para uno, repetible: el dron firma y descarta la entrada sin firmar",
	},
	"bench": {
		"drones":      "número de drones simulados (hasta 10,000; los grupos de 250 reutilizan ids de sistema, cada dron con su propio socket y como un dron aparte)",
		"rate":        "frecuencia de GLOBAL_POSITION_INT pedida a cada dron, Hz",
		"stream-hz":   "frecuencia de los demás flujos de telemetría (actitud, estado, …), Hz",
		"ws-clients":  "clientes WebSocket del mapa del operador que observan todos los drones (0: sin servidor web); la latencia se mide entonces hasta ellos",
		"ws-protocol": "versión del protocolo WebSocket que piden los clientes (1: objetos completos de cada dron; 2: entradas compactas de posición)",
		"grpc-stream": "abre un flujo de telemetría gRPC de la posición de cada dron",
		"record":      "graba el historial de la flota en una base de datos bbolt en un directorio temporal",
		"allow-loss":  "termina con estado 0 aunque una ejecución no haya descubierto todos los drones, haya perdido tramas, un cliente WebSocket no haya visto un dron o haya sido cerrado, o se haya detenido la grabación",
		"duration":    "ventana medida, después del calentamiento",
		"warmup":      "espera máxima a que los drones se descubran y transmitan",
		"sim-nice":    "prioridad (nice) de los procesos del simulador con --sim-process (0..19; 0: la del banco), para que tomen la CPU que el servidor deja, como lo harían drones propios",
		"sim-process": "ejecuta los drones simulados en procesos hijos 'centinela sim' y los clientes WebSocket y gRPC en otro más, para que su CPU no sea la del servidor",
		"json":        "imprime un objeto JSON (uno por línea con --sweep)",
		"markdown":    "imprime una tabla Markdown (docs/PERFORMANCE.md)",
		"sweep":       "ejecuta una vez por cada número de drones de esta `LISTA` separada por comas (por ejemplo 100,500,1000,2000) e imprime una sola tabla",
		"pprof":       "sirve perfiles de Go del servidor en http://`DIRECCIÓN`/debug/pprof/ durante la ejecución",
	},
	"plan": {
		"kind":           "`tipo` de patrullaje: perimeter, coverage, corridor o transit",
		"area":           "`archivo` GeoJSON con el polígono del área (perimeter, coverage; recorta la línea de un corredor)",
		"line":           "`archivo` GeoJSON con la línea del corredor (predeterminado: la frontera México–EE. UU. incluida)",
		"home":           "origen de los drones como `LAT,LON`, repetible: uno por dron, el último para los demás",
		"to":             "destino del tránsito como `LAT,LON`",
		"agency":         "agencia que vuela el patrullaje: us-agency, mx-agency o joint-task-force",
		"zones":          "`archivo` GeoJSON de zonas que se importan sobre el conjunto fronterizo incluido",
		"alt":            "altitud del patrullaje sobre el origen, metros (predeterminado: 60)",
		"swath":          "ancho de franja del sensor para la cobertura, metros (predeterminado: 50)",
		"overlap":        "traslape entre líneas de cobertura vecinas, 0–0.9 (predeterminado: 0.1)",
		"speed":          "velocidad del patrullaje, m/s (predeterminado: 10)",
		"transit-speed":  "velocidad de ida y vuelta al patrullaje, m/s (predeterminado: --speed)",
		"margin":         "margen de seguridad a los bordes de las zonas y a las exclusiones, metros (predeterminado: 30)",
		"offset":         "distancia del corredor a la línea, metros (predeterminado: 150)",
		"laps":           "vueltas de un perímetro, idas y vueltas de un corredor (predeterminado: 1)",
		"cw":             "vuela el perímetro en sentido horario",
		"end-near-start": "termina la cobertura cerca de donde empezó",
		"side":           "lado del corredor respecto a la línea, left o right (predeterminado: el propio de la agencia)",
		"sweep":          "dirección de las líneas de cobertura, grados en sentido horario desde el norte (predeterminado: la de menos giros)",
		"drones":         "reparte el patrullaje entre `N` drones (coverage, corridor)",
		"battery":        "carga de la batería al inicio, por ciento (predeterminado: 100)",
		"endurance":      "tiempo de vuelo con la batería llena",
		"reserve":        "reserva de batería, por ciento (predeterminado: 20)",
		"sorties":        "divide en salidas un patrullaje que no cabe en una batería",
		"max-leg":        "divide los tramos más largos que esto, metros (0: sin límite)",
		"range":          "corredor sin --area ni --line: la frontera a menos de tantos metros del origen",
		"format":         "salida: text, geojson o plan (QGroundControl)",
		"out":            "con --format plan y varias rutas: escribe archivos `PREFIJO`-DRONE-SALIDA.plan",
		"jump":           "expresa las vueltas con DO_JUMP en las misiones .plan",
	},
	"token create": {
		"db":     "`archivo` de almacenamiento del servidor (serve --db)",
		"role":   "supervisor, operator o admin",
		"agency": "la agencia del titular (obligatoria para operadores)",
		"name":   "etiqueta que se muestra en la bitácora de auditoría",
	},
}

// helpInherits names the command whose flags a command registers too
// (demo runs a server: it takes serve's flags).
var helpInherits = map[string]string{"demo": "serve"}

// flagUsageES is the Spanish description of the flag f of command cmd, ""
// when there is none: cmd's own, then that of the command it inherits
// flags from, then the shared one.
func flagUsageES(cmd string, f *flag.Flag) string {
	for c := cmd; c != ""; c = helpInherits[c] {
		if s, ok := flagsES[c][f.Name]; ok {
			return s
		}
	}
	return flagsES[""][f.Name]
}
