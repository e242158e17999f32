package wecomfake

import "fmt"

// WeCom error codes the fake answers with. Numbers and meanings follow the
// global error-code list (doc 90313); the English messages are ours, in the
// style of WeCom's own errmsg.
const (
	codeBusy              = -1    // system busy
	codeBadSecret         = 40001 // invalid credential (corpsecret)
	codeBadMediaFile      = 40004 // invalid media file type
	codeBadMediaType      = 40005 // invalid media type parameter
	codeBadFileSize       = 40006 // invalid file size
	codeBadMediaID        = 40007 // invalid media_id
	codeBadMsgType        = 40008 // invalid msgtype
	codeImageSize         = 40009 // invalid image size
	codeVideoSize         = 40011 // invalid video size
	codeBadCorpID         = 40013 // invalid corpid
	codeBadToken          = 40014 // invalid access_token
	codeUserListLen       = 40032 // invalid userid list size
	codeBadAgentID        = 40056 // invalid agentid
	codeBadParam          = 40058 // invalid parameter (also bad JSON)
	codeNoToken           = 41001 // access_token missing
	codeNoCorpID          = 41002 // corpid missing
	codeNoSecret          = 41004 // corpsecret missing
	codeNoMediaID         = 41006 // media_id missing
	codeNoURL             = 41010 // url missing
	codeNoAgentID         = 41011 // agentid missing
	codeNoTitle           = 41016 // title missing
	codeNoDescription     = 41033 // description missing
	codeTokenExpired      = 42001 // access_token expired
	codeBadTaskID         = 42014 // task_id exists, empty or too long
	codeNoTask            = 42016 // updated task_id does not exist
	codeCardKeyName       = 42027 // horizontal_content_list.keyname missing
	codeCardURL           = 42028 // a url missing in card_action, horizontal list or jump list
	codeCardMediaID       = 42029 // horizontal_content_list.media_id missing
	codeCardAppID         = 42030 // an appid missing in card_action or jump list
	codeCardType          = 42031 // invalid card_type
	codeCardTitle         = 42033 // a title missing
	codeCardHorizontalLen = 42035 // horizontal_content_list length
	codeCardVerticalLen   = 42036 // vertical_content_list length
	codeCardOptionLen     = 42037 // option_list length
	codeCardButtonText    = 42038 // button_list.text missing or invalid
	codeCardButtonKey     = 42039 // button_list.key missing or invalid
	codeCardOptionID      = 42040 // option_list.id missing or invalid
	codeCardOptionText    = 42041 // option_list.text missing or invalid
	codeCardJumpLen       = 42042 // jump_list length
	codeCardQuestionKey   = 42043 // question_key missing or invalid
	codeCardImageURL      = 42044 // card_image.url missing or invalid
	codeCardAction        = 42045 // card_action missing or invalid
	codeCardSubmitKey     = 42046 // submit_button.key missing or invalid
	codeCardSelectLen     = 42047 // select_list length
	codeCardSubmitText    = 42049 // submit_button.text missing or invalid
	codeCardUserID        = 42050 // horizontal_content_list.userid missing or invalid
	codeCardMenuKey       = 42051 // action_menu key conflict
	codeEmptyMedia        = 44001 // empty media data
	codeEmptyContent      = 44004 // empty text content
	codeMediaTooBig       = 45001 // media size over limit
	codeContentTooBig     = 45002 // content size over limit
	codeNewsCount         = 45008 // news article count
	codeFreqLimit         = 45009 // api freq out of limit
	codeBadResponseCode   = 60140 // invalid (unknown, used or expired) response_code
	codeAllInvalid        = 81013 // user, party and tag all invalid
	codeNoRecipients      = 82001 // touser, toparty and totag all empty
	codeBadChatID         = 86001 // invalid chatid
	codeChatNotFound      = 86003 // chatid not found
	codeBadWebhook        = 93000 // invalid webhook key
)

// apiError is a WeCom error answer: HTTP 200 with errcode and errmsg.
type apiError struct {
	Code int
	Msg  string
}

func (e *apiError) Error() string { return fmt.Sprintf("errcode %d: %s", e.Code, e.Msg) }

// fail builds an apiError; format arguments are applied like fmt.Sprintf.
func fail(code int, format string, args ...any) *apiError {
	return &apiError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// errMsgFor returns the default errmsg of code, for codes injected with
// FailNext and friends without a message.
func errMsgFor(code int) string {
	switch code {
	case codeBusy:
		return "system busy"
	case codeBadSecret:
		return "invalid credential"
	case 40003:
		return "invalid userid"
	case codeBadMediaID:
		return "invalid media_id"
	case codeBadMsgType:
		return "invalid message type"
	case codeBadToken:
		return "invalid access_token"
	case codeBadAgentID:
		return "invalid agentid"
	case codeBadParam:
		return "invalid parameter"
	case codeNoToken:
		return "access_token missing"
	case codeTokenExpired:
		return "access_token expired"
	case codeBadTaskID:
		return "taskid has existed or empty or exceed max len"
	case codeFreqLimit:
		return "api freq out of limit"
	case 48002:
		return "api forbidden"
	case 60020:
		return "not allow to access from your ip"
	case codeBadResponseCode:
		return "invalid response_code"
	case 45033:
		return "api concurrent out of limit"
	case codeAllInvalid:
		return "all touser & toparty & totag invalid"
	case codeNoRecipients:
		return "all touser & toparty & totag empty"
	case codeChatNotFound:
		return "chatid not found"
	case codeBadWebhook:
		return "invalid webhook url"
	case codeContentTooBig:
		return "content size out of limit"
	}
	return fmt.Sprintf("error %d", code)
}
