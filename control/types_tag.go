package control

type tagResourceRequest struct {
	ResourceARN string            `json:"resourceArn"`
	Tags        map[string]string `json:"tags"`
}

type untagResourceRequest struct {
	ResourceARN string   `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

type listTagsForResourceRequest struct {
	ResourceARN string `json:"resourceArn"`
}

type listTagsForResourceResponse struct {
	Tags map[string]string `json:"tags"`
}
