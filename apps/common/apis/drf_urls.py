from django.urls import path

from apps.common.apis.drf_views import MetaApi

urlpatterns = [path("meta/", MetaApi.as_view(), name="meta")]
