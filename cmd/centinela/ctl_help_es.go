package main

import "github.com/centinela-gcs/centinela/fleet/i18n"

// ctlHelpES is the Spanish text of each ctl command's help, by path. The
// English text is the command's own help; TestCtlHelpSpanish fails when a
// command has no Spanish help or an entry names no command.
var ctlHelpES = map[string]string{
	"drones ls":        "lista los drones",
	"drones show":      "muestra todo sobre un drone",
	"drones set":       "cambia el --name o la --agency de un drone (administrador)",
	"watch":            "una tabla en vivo de la flota y sus eventos, actualizada en su lugar (--json: un objeto por línea)",
	"arm":              "arma los motores, esperando hasta --wait las comprobaciones previas al armado",
	"disarm":           "desarma (--force: incluso en vuelo)",
	"takeoff":          "despega a M metros sobre el punto de origen",
	"land":             "aterriza donde está",
	"rtl":              "regresa al punto de lanzamiento",
	"hold":             "se detiene y mantiene la posición",
	"goto":             "vuela a un punto (--alt M sobre el origen; por defecto, la altitud actual)",
	"mode":             "cambia el modo de vuelo (GUIDED, LOITER, AUTO, …)",
	"fence enable":     "activa la geocerca propia del vehículo",
	"fence disable":    "desactiva la geocerca propia del vehículo",
	"fence upload":     "carga en el vehículo el espacio permitido del drone como geocercas",
	"emergency":        "envía RTL, aterrizaje o mantener a cada drone de --all, --agency A, --zone Z o --polygon",
	"mission upload":   "sube una misión (JSON o .plan de QGroundControl), mostrando el avance",
	"mission download": "imprime la misión del drone como archivo de misión JSON",
	"mission clear":    "borra la misión del drone",
	"mission start":    "vuela la misión desde su primer elemento (arma si hace falta)",
	"mission pause":    "detiene el drone y recuerda dónde se quedó la misión",
	"mission resume":   "continúa una misión en pausa o interrumpida",
	"mission abort":    "termina la misión y regresa a casa",
	"mission progress": "imprime el avance de la misión (--follow: hasta que termine)",
	"params ls":        "descarga y lista todos los parámetros, mostrando el avance",
	"params get":       "lee un parámetro",
	"params set":       "escribe un parámetro e imprime el eco del vehículo",
	"zones ls":         "lista todas las zonas",
	"zones show":       "muestra una zona",
	"zones import":     "importa las zonas de un archivo GeoJSON (todo o nada)",
	"zones export":     "escribe todas las zonas como GeoJSON (salida estándar sin ARCHIVO)",
	"zones check":      "¿puede AGENCIA volar en un punto? (--alt M sobre el origen)",
	"audit":            "imprime la bitácora de auditoría (--since, --drone, --agency)",
	"events":           "imprime los eventos guardados (--since, --drone, --kinds)",
	"token create":     "crea un token (administrador); imprime el secreto una sola vez",
	"token ls":         "lista los tokens, sin secretos (administrador)",
	"token revoke":     "revoca un token de inmediato (administrador)",
	"grant create":     "permite que la agencia DESTINO comande los drones de la agencia ORIGEN (--drones, --for D) (administrador)",
	"grant ls":         "lista las concesiones de mando (--all: también revocadas y vencidas)",
	"grant revoke":     "termina una concesión de mando ahora (administrador)",
	"track":            "imprime la trayectoria guardada de un drone (--since D, --format csv|geojson)",
	"patrol plan":      "planea un patrullaje y lo compara con los reservados (no reserva nada)",
	"patrol dispatch":  "planea, reserva, sube e inicia un patrullaje",
	"patrol ls":        "lista los patrullajes, el más reciente primero",
	"patrol cancel":    "cancela un patrullaje: el drone regresa a casa y su espacio aéreo se libera",
	"patrol export":    "imprime la misión de un patrullaje como .plan de QGroundControl",
	"alerts":           "lista las alertas recientes (--unacked: solo las no reconocidas)",
	"alerts ack":       "reconoce una alerta para todos: alerts ack ID_ALERTA",
	"keys create":      "crea una clave de firma MAVLink 2 para un id de sistema (administrador); la imprime una sola vez: keys create SYSID [--push]",
	"keys rotate":      "reemplaza la clave de firma de un id de sistema (administrador); imprime la nueva una sola vez; los enlaces firmados activos pasan a ella (--push: se entrega antes a los drones)",
	"keys push":        "entrega a un drone la clave guardada de su id de sistema por su enlace (administrador); desde entonces su enlace va firmado: keys push DRONE",
	"keys ls":          "lista las claves de firma por id de sistema, solo huellas (administrador)",
}

// helpText is cmd's help in c's language.
func (c *ctlConfig) helpText(cmd ctlCommand) string {
	if c.lang == i18n.Es {
		if s, ok := ctlHelpES[cmd.path]; ok {
			return s
		}
	}
	return cmd.help
}
