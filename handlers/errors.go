package handlers

import (
	"net/http"

	"gridbot/bot"

	"github.com/gin-gonic/gin"
)

// statusOf maps a domain error code to its HTTP status, in one place.
func statusOf(code string) int {
	switch code {
	case bot.EINVALID:
		return http.StatusBadRequest
	case bot.EUNAUTHORIZED:
		return http.StatusForbidden
	case bot.ENOTFOUND:
		return http.StatusNotFound
	case bot.ECONFLICT:
		return http.StatusConflict
	case bot.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case bot.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError is the one error writer: a JSON {"error": …} with the status
// of err's code. Internal details never reach the client.
func writeError(c *gin.Context, err error) {
	code := bot.ErrorCode(err)
	c.AbortWithStatusJSON(statusOf(code), gin.H{"error": bot.ErrorMessage(err), "code": code})
}
