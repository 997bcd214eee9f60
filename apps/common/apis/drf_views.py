"""v1 service metadata."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.selectors import service_meta


class MetaApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField()
        version = serializers.CharField()
        api = serializers.CharField()
        environment = serializers.CharField()

    @extend_schema(responses=OutputSerializer, summary="Service name and version")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(service_meta(api="v1")).data)
